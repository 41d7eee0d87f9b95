import torch
x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
w = torch.tensor([1.0], requires_grad=True)
def forward(x):
    return x * w
def loss(x, y):
    return (forward(x) - y) ** 2
class Trainer:
    def __init__(self, lr):
        self.lr = lr
    def run(self, epochs):
        for epoch in range(epochs):
            for x, y in zip(x_data, y_data):
                l = loss(x, y)
                l.backward()
                w.data = w.data - self.lr * w.grad.data
                w.grad.data.zero_()
Trainer(0.01).run(100)
