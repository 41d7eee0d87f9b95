import torch
import torch.nn as nn

# 准备数据
x_data = torch.tensor([[1.0], [2.0], [3.0]])
y_data = torch.tensor([[2.0], [4.0], [6.0]])


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(1, 1)

    def forward(self, x):
        return self.linear(x)


model = Model()
criterion = nn.MSELoss(reduction='sum')
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

model.train()
for epoch in range(1000):
    y_pred = model(x_data)
    loss = criterion(y_pred, y_data)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if epoch % 100 == 99:
        print('epoch {}, loss {:.6f}'.format(epoch + 1, loss.item()))

# 测试
model.eval()
with torch.no_grad():
    x_test = torch.tensor([[4.0], [5.0]])
    print('预测：', model(x_test).squeeze().tolist())
print('w = %.4f, b = %.4f' % (model.linear.weight.item(), model.linear.bias.item()))
