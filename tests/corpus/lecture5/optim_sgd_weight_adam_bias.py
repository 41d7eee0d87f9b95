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
opt_w = torch.optim.SGD([model.linear.weight], lr=0.01)
opt_b = torch.optim.Adam([model.linear.bias], lr=0.01)
for epoch in range(1000):
    loss = criterion(model(x_data), y_data)
    opt_w.zero_grad(); opt_b.zero_grad()
    loss.backward()
    opt_w.step(); opt_b.step()
print("w =", model.linear.weight.item())
print("b =", model.linear.bias.item())
print(model(torch.Tensor([[4.0]])).data)
