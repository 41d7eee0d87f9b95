import torch
import torch.nn as nn

x_data = torch.tensor([[1.0], [2.0], [3.0]])
y_data = torch.tensor([[0.0], [0.0], [1.0]])


class LogisticRegression(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(1, 1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        return self.sigmoid(self.fc(x))


lr_model = LogisticRegression()
loss_fn = nn.BCELoss(reduction='sum')
opt = torch.optim.SGD(lr_model.parameters(), lr=0.01)

epoch = 0
while epoch < 1000:
    opt.zero_grad()
    out = lr_model(x_data)
    loss = loss_fn(out, y_data)
    loss.backward()
    opt.step()
    epoch += 1

lr_model.eval()
with torch.no_grad():
    for hours in [1.0, 2.0, 3.0, 4.0]:
        p = lr_model(torch.tensor([[hours]])).item()
        print(f'{hours} h -> p(pass) = {p:.3f}', 'pass' if p > 0.5 else 'fail')
