import torch


class QuadraticModel:
    def __init__(self):
        self.w1 = torch.tensor([1.0], requires_grad=True)
        self.w2 = torch.tensor([1.0], requires_grad=True)
        self.b = torch.tensor([1.0], requires_grad=True)

    def parameters(self):
        return [self.w1, self.w2, self.b]


model = QuadraticModel()
x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]


def forward(x):
    return model.w1 * x ** 2 + model.w2 * x + model.b


def loss(x, y):
    return (forward(x) - y) ** 2


for epoch in range(100):
    for x, y in zip(x_data, y_data):
        l = loss(x, y)
        l.backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= 0.01 * p.grad
                p.grad.zero_()
print("after training", forward(4).item())
