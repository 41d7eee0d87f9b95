# cost() and gradient() use the data lists directly instead of taking them as arguments
x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
w = 1.0


def predict(x):
    return w * x


def cost():
    return sum((predict(x) - y) ** 2 for x, y in zip(x_data, y_data)) / len(x_data)


def gradient():
    return sum(2 * x * (predict(x) - y) for x, y in zip(x_data, y_data)) / len(x_data)


costs = []
for epoch in range(100):
    costs.append(cost())
    w -= 0.01 * gradient()
    if epoch % 10 == 9:
        print("epoch", epoch + 1, "w", round(w, 5), "cost", round(costs[-1], 6))

print("x = 4 ->", predict(4))
