# The article's Keras CNN listing (section 4.1, CIFAR-10), with only its import line changed.
# Run:  SHENJING_DATA=../shared/data python examples/cifar10_cnn.py
# As written, the last layer applies softmax and the loss is told from_logits=True: shenjing
# warns (as Keras does) and trains anyway; benchmarks/cifar10_side_by_side.py trains the
# corrected listing (logits out) beside PyTorch. Results: benchmarks/RESULTS.md.
import shenjing as tf
# 定义一个简单的卷积神经网络
model = tf.keras.Sequential([
tf.keras.layers.Conv2D(32, (3, 3), activation='relu', input_shape=(32, 32, 3)),
tf.keras.layers.MaxPooling2D((2, 2)),
tf.keras.layers.Conv2D(64, (3, 3), activation='relu'),
tf.keras.layers.MaxPooling2D((2, 2)),
tf.keras.layers.Conv2D(64, (3, 3), activation='relu'),
tf.keras.layers.Flatten(),
tf.keras.layers.Dense(64, activation='relu'),
tf.keras.layers.Dense(10, activation='softmax')
])
# 编译模型
model.compile(optimizer='adam',
loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
metrics=['accuracy'])
# 加载数据集
(x_train, y_train), (x_test, y_test) = tf.keras.datasets.cifar10.load_data()
# 数据预处理
x_train, x_test = x_train / 255.0, x_test / 255.0
# 训练模型
model.fit(x_train, y_train, epochs=10, validation_data=(x_test, y_test))
# 模型评估
test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=2)
print('测试集损失:', test_loss)
print('测试集准确率:', test_accuracy)
