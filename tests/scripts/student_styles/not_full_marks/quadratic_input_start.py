import torch
x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
epochs = int(input("epochs? ") or 100)
w1 = torch.tensor([1.0], requires_grad=True)
w2 = torch.tensor([1.0], requires_grad=True)
b = torch.tensor([1.0], requires_grad=True)
def forward(x):
    return w1 * x ** 2 + w2 * x + b
def loss(x, y):
    return (forward(x) - y) ** 2
