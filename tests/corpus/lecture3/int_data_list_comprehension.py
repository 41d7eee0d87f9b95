import matplotlib.pyplot as plt

x_data = [1, 2, 3]
y_data = [2 * x for x in x_data]   # y = 2x

w = 1   # initial guess


def forward(x):
    return w * x


def cost(xs, ys):
    return sum([(forward(x) - y) ** 2 for x, y in zip(xs, ys)]) / len(xs)


def gradient(xs, ys):
    return sum([2 * x * (forward(x) - y) for x, y in zip(xs, ys)]) / len(xs)


print('Predict (before training):', 4, forward(4))
cost_list = []
epoch = 0
for epoch in range(100):
    cost_val = cost(x_data, y_data)
    grad_val = gradient(x_data, y_data)
    w -= 0.01 * grad_val
    cost_list.append(cost_val)
    print('Epoch: %d, w = %.4f, loss = %.6f' % (epoch, w, cost_val))
print('Predict (after training):', 4, forward(4))

plt.figure()
plt.plot(range(len(cost_list)), cost_list, label='MSE')
plt.legend()
plt.title('Gradient Descent')
plt.savefig('cost.png')
