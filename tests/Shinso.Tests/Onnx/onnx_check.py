"""Checks ONNX files with the onnx package's checker for Shinso's export tests (run with Debian's /usr/bin/python3).

One process serves a whole test run. The first line written is {"ready": true, "version": "<onnx version>"}; then each
stdin line is the path of a model and gets one JSON line back: {"error": "..."} when
onnx.checker.check_model(model, full_check=True) rejects it, otherwise what the parsed file says (IR version, opsets,
graph name and doc string, metadata, inputs and outputs with their dimensions, the operators used).
"""
import json
import sys

import onnx


def dims(value_info):
    shape = value_info.type.tensor_type.shape
    return [d.dim_param if d.HasField("dim_param") else d.dim_value for d in shape.dim]


def report(path):
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    return {
        "ir_version": model.ir_version,
        "opsets": {entry.domain: entry.version for entry in model.opset_import},
        "producer": f"{model.producer_name} {model.producer_version}",
        "graph_name": model.graph.name,
        "doc_string": model.graph.doc_string,
        "metadata": {entry.key: entry.value for entry in model.metadata_props},
        "inputs": [{"name": v.name, "dims": dims(v)} for v in model.graph.input],
        "outputs": [{"name": v.name, "dims": dims(v)} for v in model.graph.output],
        "ops": [node.op_type for node in model.graph.node],
    }


def main():
    print(json.dumps({"ready": True, "version": onnx.__version__}), flush=True)
    for line in sys.stdin:
        path = line.strip()
        if not path:
            continue
        try:
            reply = report(path)
        except Exception as e:  # every failure is the test's answer, never a crash of the server
            reply = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
