import torch

x_data = torch.tensor([1.0, 2.0, 3.0])
y_data = torch.tensor([2.0, 4.0, 6.0])
params = {}
w1 = torch.tensor([1.0], requires_grad=True)
w2 = torch.tensor([1.0], requires_grad=True)
b = torch.tensor([1.0], requires_grad=True)

def forward(x):
    return w1 * torch.pow(x, 2) + w2 * x + b

def loss(x, y):
    return torch.square(forward(x) - y).sum()

for epoch in range(100):
    for i in range(len(x_data)):
        l = loss(x_data[i], y_data[i])
        l.backward()
        with torch.no_grad():
            for p in (w1, w2, b):
                p.sub_(0.01 * p.grad)
                p.grad.zero_()
print(forward(torch.tensor(4.0)).item())
