import numpy as np
import torch
import torch.nn.functional as F
# 用 numpy 准备数据，再转成张量
x_np = np.array([[1.0], [2.0], [3.0]], dtype=np.float32)
y_np = np.array([[2.0], [4.0], [6.0]], dtype=np.float32)
x_data = torch.from_numpy(x_np)
y_data = torch.from_numpy(y_np)


class LinearModel(torch.nn.Module):
	def __init__(self):
		super(LinearModel, self).__init__()
		self.linear = torch.nn.Linear(1, 1)

	def forward(self, x):
		return self.linear(x)


model = LinearModel()
criterion = torch.nn.MSELoss(reduction="sum")
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)


def 训练():
	for 轮 in range(1000):
		optimizer.zero_grad()
		损失 = criterion(model(x_data), y_data)
		损失.backward()
		optimizer.step()
		print("\r轮次 %d 损失 %.4f" % (轮, 损失.item()), end="")
	print()


if __name__ == "__main__":
	训练()
	print("w =", model.linear.weight.item(), "b =", model.linear.bias.item())
	print("预测 x=4：", model(torch.Tensor([[4.0]])).data)
