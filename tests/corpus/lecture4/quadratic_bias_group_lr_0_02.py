# ONE deviation: the bias's param group has its own lr 0.02 (weights keep 0.01)
import torch

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
w1 = torch.tensor([1.0], requires_grad=True)
w2 = torch.tensor([1.0], requires_grad=True)
b = torch.tensor([1.0], requires_grad=True)
optimizer = torch.optim.SGD([{'params': [w1, w2]}, {'params': [b], 'lr': 0.02}], lr=0.01)


def forward(x):
    return w1 * x ** 2 + w2 * x + b


def loss(x, y):
    return (forward(x) - y) ** 2


for epoch in range(100):
    for x, y in zip(x_data, y_data):
        l = loss(x, y)
        optimizer.zero_grad()
        l.backward()
        optimizer.step()
    print('Epoch:', epoch, l.item())
print('Predict (after training)', 4, forward(4).item())
