import torch

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]

# w 需要计算梯度
w = torch.tensor([1.0], dtype=torch.float32, requires_grad=True)
lr = 0.01


def forward(x):
    return x * w


def loss(x, y):
    y_pred = forward(x)
    return (y_pred - y) ** 2


print("predict (before training)", 4, forward(4).item())

for epoch in range(100):
    for x, y in zip(x_data, y_data):
        l = loss(x, y)
        l.backward()
        with torch.no_grad():
            w -= lr * w.grad
        w.grad = None          # 清空梯度（也可以用 zero_）
    print(f"epoch={epoch:02d}  loss={l.item():.8f}  w={w.item():.5f}")

print("predict (after training)", 4, forward(4).item())
