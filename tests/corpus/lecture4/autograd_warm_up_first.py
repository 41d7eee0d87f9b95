import torch

# warm-up from the slides: autograd on a small expression of its own before the homework
def check_autograd():
    a = torch.tensor([2.0], requires_grad=True)
    c = torch.tensor([3.0], requires_grad=True)
    out = (a * c + a ** 2) ** 2
    out.backward()
    print("d out / d a =", a.grad.item(), " d out / d c =", c.grad.item())


check_autograd()

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
w = torch.Tensor([1.0])
w.requires_grad = True


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
    print("progress:", epoch, l.item())

print("predict (after training)", 4, forward(4).item())
