import torch

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]

w1 = torch.tensor([1.0], requires_grad=True)
w2 = torch.tensor([1.0], requires_grad=True)
b = torch.tensor([1.0], requires_grad=True)


def forward(x):
    return w1 * x ** 2 + w2 * x + b


def loss(x, y):
    return (forward(x) - y) ** 2


optimizer = torch.optim.SGD([w1, w2, b], lr=0.01, weight_decay=1e-3)
for epoch in range(100):
    for x, y in zip(x_data, y_data):
        l = loss(x, y)
        optimizer.zero_grad()
        l.backward()
        optimizer.step()
    print(epoch, l.item())
print('Predict (after training)', 4, forward(4).item())
