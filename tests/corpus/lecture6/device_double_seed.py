import torch

torch.manual_seed(0)
device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')

x_data = torch.tensor([[1.0], [2.0], [3.0]], dtype=torch.float64, device=device)
y_data = torch.tensor([[0.0], [0.0], [1.0]], dtype=torch.float64, device=device)


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(1, 1)

    def forward(self, x):
        return torch.sigmoid(self.linear(x))


model = Model().double().to(device)
criterion = torch.nn.BCELoss(reduction='sum')
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

model.train()
for epoch in range(1000):
    optimizer.zero_grad()
    loss = criterion(model(x_data), y_data)
    loss.backward()
    optimizer.step()

model.eval()
with torch.no_grad():
    print(model(torch.tensor([[4.0]], dtype=torch.float64, device=device)).item())
