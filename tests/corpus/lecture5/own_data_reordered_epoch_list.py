import torch
import matplotlib.pyplot as plt

# 自己的数据：顺序打乱了，还把 x=1 换成了 x=5
xs = torch.tensor([[5.0], [3.0], [2.0]])
ys = torch.tensor([[10.0], [6.0], [4.0]])


class Regressor(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(1, 1)

    def forward(self, x):
        return self.linear(x)


model = Regressor()
criterion = torch.nn.MSELoss(reduction='sum')
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

epochs, losses = [], []
for epoch in range(1000):
    loss = criterion(model(xs), ys)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    epochs.append(epoch)          # 画图用
    losses.append(loss.item())

print('w =', model.linear.weight.item(), 'b =', model.linear.bias.item())
plt.plot(epochs, losses)
plt.savefig('loss.png')
