import torch
import torch.nn.functional as F

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
w1 = torch.nn.Parameter(torch.tensor([1.0]))
w2 = torch.nn.Parameter(torch.tensor([1.0]))
b = torch.nn.Parameter(torch.tensor([1.0]))
opt = torch.optim.SGD([w1, w2, b], lr=0.01, momentum=0.0)

def forward(x):
    return w1 * x ** 2 + w2 * x + b

def loss(x, y):
    return F.mse_loss(forward(x), torch.tensor([float(y)]), reduction="sum")

for epoch in range(100):
    for x, y in zip(x_data, y_data):
        opt.zero_grad(set_to_none=True)
        loss(x, y).backward()
        opt.step()
print(forward(4.0).item())
