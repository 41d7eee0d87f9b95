# 换一个优化器：Rprop，1000 轮，记录 w 和 b 画图
import torch
import matplotlib.pyplot as plt

x_data = torch.Tensor([[1.0], [2.0], [3.0]])
y_data = torch.Tensor([[0], [0], [1]])


class LogisticRegressionModel(torch.nn.Module):
    def __init__(self):
        super(LogisticRegressionModel, self).__init__()
        self.linear = torch.nn.Linear(1, 1)

    def forward(self, x):
        return torch.sigmoid(self.linear(x))


model = LogisticRegressionModel()
criterion = torch.nn.BCELoss(size_average=False)
opt = torch.optim.Rprop(model.parameters(), lr=0.01)

ws, bs = [], []
for epoch in range(1000):
    y_pred = model(x_data)
    loss = criterion(y_pred, y_data)
    ws.append(model.linear.weight.item())
    bs.append(model.linear.bias.item())
    opt.zero_grad()
    loss.backward()
    opt.step()
    if epoch % 100 == 99:
        print(epoch, loss.item())

plt.plot(ws, label='w')
plt.plot(bs, label='b')
plt.legend()
plt.savefig('rprop.png')
print('w =', model.linear.weight.item(), 'b =', model.linear.bias.item())
