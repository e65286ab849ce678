"""The maths: a NumPy recurrent engine that mirrors PyTorch's nn.RNN / nn.LSTM / nn.GRU."""
