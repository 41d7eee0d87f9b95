import torch

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]

w1 = torch.tensor(1.0, requires_grad=True)
w2 = torch.tensor(1.0, requires_grad=True)
b = torch.tensor(1.0, requires_grad=True)
params = [w1, w2, b]


def forward(x):
    return w1 * x * x + w2 * x + b


def loss(x, y):
    return (forward(x) - y) ** 2


loss_list = []
for epoch in range(100):
    for x, y in zip(x_data, y_data):
        for p in params:
            if p.grad is not None:
                p.grad.zero_()
        l = loss(x, y)
        l.backward()
        for p in params:
            p.data.sub_(0.01 * p.grad.data)
    loss_list.append(l.item())
print('w1 =', w1.item(), 'w2 =', w2.item(), 'b =', b.item())
print('predict', 4, forward(4).item())
