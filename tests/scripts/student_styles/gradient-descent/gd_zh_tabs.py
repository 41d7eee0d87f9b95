# 梯度下降（手动计算梯度）
import matplotlib.pyplot as plt
x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
w = 1.0


def forward(x):
	return x * w


def cost(xs, ys):
	总损失 = 0
	for x, y in zip(xs, ys):
		总损失 += (forward(x) - y) ** 2
	return 总损失 / len(xs)


def gradient(xs, ys):
	梯度 = 0
	for x, y in zip(xs, ys):
		梯度 += 2 * x * (x * w - y)
	return 梯度 / len(xs)


历史 = []
for 轮 in range(100):
	损失 = cost(x_data, y_data)
	w -= 0.01 * gradient(x_data, y_data)
	历史.append(损失)
	print("第", 轮, "轮：w =", w, "损失 =", 损失)
plt.plot(历史)
plt.show()
