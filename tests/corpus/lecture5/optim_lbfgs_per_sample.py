import torch
x_data = torch.Tensor([[1.0], [2.0], [3.0]])
y_data = torch.Tensor([[2.0], [4.0], [6.0]])
class LinearModel(torch.nn.Module):
    def __init__(self):
        super(LinearModel, self).__init__()
        self.linear = torch.nn.Linear(1, 1)
    def forward(self, x):
        return self.linear(x)
model = LinearModel()
criterion = torch.nn.MSELoss(size_average=False)
optimizer = torch.optim.LBFGS(model.parameters(), lr=0.01)
for epoch in range(300):
    for i in range(3):
        def closure():
            optimizer.zero_grad()
            loss = criterion(model(x_data[i:i+1]), y_data[i:i+1])
            loss.backward()
            return loss
        optimizer.step(closure)
print("w =", model.linear.weight.item())
print("b =", model.linear.bias.item())
print(model(torch.Tensor([[4.0]])).data)
