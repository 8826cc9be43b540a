"""Model runtimes: dlib landmarks for the lite engine; ONNX sessions for the neural engine."""
