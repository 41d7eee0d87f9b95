import torch
x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
w1 = torch.tensor([1.0], requires_grad=True)
w2 = torch.tensor([1.0], requires_grad=True)
b = torch.tensor([1.0], requires_grad=True)
params = {"w1": w1, "w2": w2, "b": b}
def forward(x):
    return w1 * x ** 2 + w2 * x + b
def loss(x, y):
    return (forward(x) - y) ** 2
def train(epochs=100, lr=0.01):
    for epoch in range(epochs):
        for x, y in zip(x_data, y_data):
            l = loss(x, y)
            l.backward()
            with torch.no_grad():
                for name, p in params.items():
                    p.add_(p.grad, alpha=-lr)
                    p.grad = None
if __name__ == '__main__':
    train()
    print({k: v.item() for k, v in params.items()})
