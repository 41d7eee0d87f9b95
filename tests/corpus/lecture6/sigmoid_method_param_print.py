import torch

x_data = torch.Tensor([[1.0], [2.0], [3.0]])
y_data = torch.Tensor([[0.0], [0.0], [1.0]])


class LogisticRegression(torch.nn.Module):
    def __init__(self):
        super(LogisticRegression, self).__init__()
        self.linear = torch.nn.Linear(1, 1)

    def forward(self, x):
        return self.linear(x).sigmoid()


model = LogisticRegression()
criterion = torch.nn.BCELoss(size_average=False)
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

loss_every_100 = []
for epoch in range(1, 1001):
    loss = criterion(model(x_data), y_data)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if epoch % 100 == 0:
        loss_every_100.append(round(loss.item(), 4))

print(loss_every_100)
for p in model.parameters():
    print(p.shape, p.data)
print('y_pred(4.0) =', model(torch.Tensor([[4.0]])).data.item())
