using Loom.Import.LightGbm;
using Loom.Import.Onnx;
using Loom.Import.XGBoost;
using Loom.IR;

namespace Loom.Cli.Commands;

/// <summary>Reads a model in any format Loom imports: ONNX, LightGBM text (.txt) or XGBoost JSON (.json).</summary>
internal static class ModelFiles
{
    public static Model Load(string path, int numIteration = 0)
    {
        if (!File.Exists(path)) throw new InputException($"{path}: no such file");
        string ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext == ".onnx") return OnnxImporter.Load(path);
        if (ext == ".json") return XGBoostImporter.Load(path);
        if (ext == ".txt") return LightGbmImporter.Load(path, numIteration);
        // Unknown extension: sniff the first bytes.
        using var reader = new StreamReader(path);
        var head = new char[64];
        var text = new string(head, 0, reader.Read(head)).TrimStart();
        if (text.StartsWith('{')) return XGBoostImporter.Load(path);
        if (text.StartsWith("tree", StringComparison.Ordinal)) return LightGbmImporter.Load(path, numIteration);
        return OnnxImporter.Load(path);
    }
}
