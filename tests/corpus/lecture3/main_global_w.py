import matplotlib.pyplot as plt

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
w = 1.0


def forward(x):
    return x * w


def cost(xs, ys):
    return sum((forward(x) - y) ** 2 for x, y in zip(xs, ys)) / len(xs)


def gradient(xs, ys):
    return sum(2 * x * (forward(x) - y) for x, y in zip(xs, ys)) / len(xs)


def main():
    global w
    costs = []
    for epoch in range(100):
        c = cost(x_data, y_data)
        g = gradient(x_data, y_data)
        w -= 0.01 * g
        costs.append(c)
        if epoch % 10 == 0:
            print(f'epoch {epoch}: w = {w:.5f}, cost = {c:.5f}')
    print(f'predict (after training) x=4: {forward(4):.4f}')
    plt.plot(range(100), costs)
    plt.xlabel('Epoch')
    plt.ylabel('Cost')
    plt.show()


if __name__ == '__main__':
    main()
