#!/usr/bin/env python
# coding: utf-8

# In[1]:


import torch


# In[2]:


x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
w = torch.tensor([1.0], requires_grad=True)


# In[3]:


def forward(x):
    return x * w
def loss(x, y):
    return (forward(x) - y) ** 2


# In[4]:


for epoch in range(100):
    for x, y in zip(x_data, y_data):
        l = loss(x, y)
        l.backward()
        w.data = w.data - 0.01 * w.grad.data
        w.grad.data.zero_()


# In[5]:


forward(4)


# In[ ]:




