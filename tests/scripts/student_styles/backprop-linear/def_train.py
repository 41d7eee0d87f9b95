import torch
import torch.nn.functional as F
x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
w = torch.tensor([1.0], requires_grad=True)
def forward(x):
    return x * w
def loss(x, y):
    return F.mse_loss(forward(x), torch.tensor([y]))
def train():
    for epoch in range(100):
        for x, y in zip(x_data, y_data):
            l = loss(x, y)
            l.backward()
            w.data -= 0.01 * w.grad.data
            w.grad.data.zero_()
        print(epoch, l.item(), end="")
    print()
train()
