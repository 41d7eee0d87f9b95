import torch

# 数据
输入 = torch.Tensor([[1.0], [2.0], [3.0]])
标签 = torch.Tensor([[2.0], [4.0], [6.0]])


class 线性模型(torch.nn.Module):
    def __init__(self):
        super(线性模型, self).__init__()
        self.线性层 = torch.nn.Linear(1, 1)

    def forward(self, x):
        return self.线性层(x)


模型 = 线性模型()
损失函数 = torch.nn.MSELoss(reduction='sum')
优化器 = torch.optim.SGD(模型.parameters(), lr=0.01)

for 轮次 in range(1000):
    预测 = 模型(输入)
    损失 = 损失函数(预测, 标签)
    优化器.zero_grad()
    损失.backward()
    优化器.step()

print('权重 =', 模型.线性层.weight.item(), '偏置 =', 模型.线性层.bias.item())
