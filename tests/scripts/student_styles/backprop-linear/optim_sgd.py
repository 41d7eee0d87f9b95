import torch
x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
w = torch.tensor([1.0], requires_grad=True)
optimizer = torch.optim.SGD([w], lr=0.01)
def forward(x):
    return x * w
def loss(x, y):
    return torch.square(forward(x) - y)
for epoch in range(100):
    for x, y in zip(x_data, y_data):
        optimizer.zero_grad()
        l = loss(x, y)
        l.backward()
        optimizer.step()
print("w =", w.item())
