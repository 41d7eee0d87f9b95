import torch

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]

w = torch.Tensor([1.0])
w.requires_grad = True


def forward(x):
    return x * w


def loss(x, y):
    return (forward(x) - y) ** 2


epoch = 0
while True:
    for x, y in zip(x_data, y_data):
        l = loss(x, y)
        l.backward()
        w.data = w.data - 0.01 * w.grad.data
        w.grad.data.zero_()
    epoch += 1
    if l.item() < 1e-6:  # 损失足够小就停
        break
print('stopped after', epoch, 'epochs; w =', w.item())
print('predict (after training)', 4, forward(4).item())
