#!/usr/bin/env python
# coding: utf-8

# # 第三讲 梯度下降

# In[1]:


import matplotlib.pyplot as plt
get_ipython().run_line_magic('matplotlib', 'inline')


# In[2]:


x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
w = 1.0


# In[3]:


def forward(x):
    return x * w

def cost(xs, ys):
    cost = 0
    for x, y in zip(xs, ys):
        y_pred = forward(x)
        cost += (y_pred - y) ** 2
    return cost / len(xs)

def gradient(xs, ys):
    grad = 0
    for x, y in zip(xs, ys):
        grad += 2 * x * (x * w - y)
    return grad / len(xs)


# In[4]:


print('Predict (before training)', 4, forward(4))
epochs, costs = [], []
for epoch in range(100):
    cost_val = cost(x_data, y_data)
    grad_val = gradient(x_data, y_data)
    w -= 0.01 * grad_val
    epochs.append(epoch)
    costs.append(cost_val)
print('Predict (after training)', 4, forward(4))


# In[5]:


plt.plot(epochs, costs)
plt.show()


# In[ ]:




