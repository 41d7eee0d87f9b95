# ONE deviation (a bug): w.grad is zeroed once per epoch (after the inner loop), so within an epoch the
# gradients of the three samples accumulate
import torch

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
w = torch.tensor([1.0], requires_grad=True)


def forward(x):
    return x * w


def loss(x, y):
    return (forward(x) - y) ** 2


for epoch in range(100):
    for x, y in zip(x_data, y_data):
        l = loss(x, y)
        l.backward()
        w.data = w.data - 0.01 * w.grad.data
    w.grad.data.zero_()
    print('progress:', epoch, l.item())
print('predict (after training)', 4, forward(4).item())
