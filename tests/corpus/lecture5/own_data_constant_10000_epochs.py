import torch

n_features = 1  # 输入维度
n_epochs = 10000

x_train = torch.tensor([[1.0], [2.0], [3.0], [5.0]])
y_train = 2 * x_train


class Line(torch.nn.Module):
    def __init__(self):
        super(Line, self).__init__()
        self.linear = torch.nn.Linear(n_features, 1)

    def forward(self, x):
        return self.linear(x)


line = Line()
criterion = torch.nn.MSELoss(reduction='sum')
optimizer = torch.optim.SGD(line.parameters(), lr=0.01)

for i in range(n_epochs):
    loss = criterion(line(x_train), y_train)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if i % 1000 == 0:
        print(f'{i}: {loss.item():.6f}')

print('预测 x=4:', line(torch.tensor([[4.0]])).item())
