import torch
import matplotlib.pyplot as plt
x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
w = torch.tensor([1.0], requires_grad=True)
def forward(x):
    return x * w
def loss(x, y):
    return (forward(x) - y) ** 2
ep, ls = [], []
for epoch in range(100):
    for x, y in zip(x_data, y_data):
        l = loss(x, y)
        l.backward()
        w.data = w.data - 0.01 * w.grad.data
        w.grad.data.zero_()
    ep.append(epoch); ls.append(l.item())
plt.plot(ep, ls)
plt.xlabel("轮次")
plt.ylabel("损失")
plt.title("训练曲线")
plt.savefig("loss.png")
plt.show()
