import torch
x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
w = torch.tensor([1.0], requires_grad=True)
def forward(x):
    return x * w
def loss(x, y):
    return (forward(x) - y).pow(2)
for epoch in range(100):
    for x, y in zip(x_data, y_data):
        l = loss(x, y)
        l.backward()
        with torch.no_grad():
            w.sub_(0.01 * w.grad)
        w.grad = None
print(w)
