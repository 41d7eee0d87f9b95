import torch

x_data = torch.tensor([[1.0], [2.0], [3.0]])
y_data = torch.tensor([[2.0], [4.0], [6.0]])

model = torch.nn.Linear(1, 1)  # 不写类，直接用 Linear
criterion = torch.nn.MSELoss(reduction='sum')
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

for epoch in range(1000):
    loss = criterion(model(x_data), y_data)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

print('w =', model.weight.item(), 'b =', model.bias.item())
print('y_pred =', model(torch.tensor([[4.0]])).item())
