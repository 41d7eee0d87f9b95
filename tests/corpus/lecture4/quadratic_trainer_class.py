import torch

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]

w1 = torch.Tensor([1.0]).requires_grad_()
w2 = torch.Tensor([1.0]).requires_grad_()
b = torch.Tensor([1.0]).requires_grad_()


def forward(x):
    return w1 * x * x + w2 * x + b


def loss(x, y):
    y_pred = forward(x)
    return (y_pred - y) ** 2


class Trainer:
    """一个简单的手写 SGD 训练器"""

    def __init__(self, params, lr=0.01):
        self.params = params
        self.lr = lr
        self.history = []

    def step(self):
        for p in self.params:
            p.data.sub_(self.lr * p.grad.data)
            p.grad.data.zero_()

    def fit(self, xs, ys, epochs):
        for epoch in range(epochs):
            for x, y in zip(xs, ys):
                l = loss(x, y)
                l.backward()
                self.step()
            self.history.append(l.item())
            if epoch % 10 == 9:
                print('epoch', epoch + 1, 'loss', l.item())
        return self.history


trainer = Trainer([w1, w2, b], lr=0.01)
trainer.fit(x_data, y_data, epochs=100)
print('w1 =', w1.item(), 'w2 =', w2.item(), 'b =', b.item())
print('predict (after training)', 4, forward(4).item())
