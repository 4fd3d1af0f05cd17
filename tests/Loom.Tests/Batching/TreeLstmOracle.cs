using Loom.Dynamic.Data;
using Loom.Dynamic.Models;

namespace Loom.Tests.BatchingTests;

/// <summary>
/// An independent TreeLSTM: the README's equations in plain double-precision loops over the parameter
/// values, recursively per tree. Oracle for both the per-node graph and the compiled path.
/// </summary>
internal static class TreeLstmOracle
{
    public static (double[] H, double[] C) Node(TreeLstm m, SstTree t, int n)
    {
        int hd = m.Hidden;
        double S(double v) => 1 / (1 + Math.Exp(-v));
        double Dot(Loom.Dynamic.Parameter w, int row, int col0, double[] x)
        {
            double s = 0;
            for (int k = 0; k < x.Length; k++) s += w.Value[row * w.Cols + col0 + k] * x[k];
            return s;
        }
        var h = new double[hd]; var c = new double[hd];
        if (t.IsLeaf(n))
        {
            var x = new double[hd];
            for (int k = 0; k < hd; k++) x[k] = m.Embedding.Value[t.WordIds[n] * hd + k];
            for (int j = 0; j < hd; j++)
            {
                double i = S(Dot(m.Wi, j, 0, x) + m.Bi.Value[j]), o = S(Dot(m.Wo, j, 0, x) + m.Bo.Value[j]);
                double u = Math.Tanh(Dot(m.Wu, j, 0, x) + m.Bu.Value[j]);
                c[j] = i * u; h[j] = o * Math.Tanh(c[j]);
            }
            return (h, c);
        }
        var (hl, cl) = Node(m, t, t.Left[n]);
        var (hr, cr) = Node(m, t, t.Right[n]);
        for (int j = 0; j < hd; j++)
        {
            double Gate(Loom.Dynamic.Parameter u) => Dot(u, j, 0, hl) + Dot(u, j, hd, hr);
            double i = S(Gate(m.Ui) + m.Bi.Value[j]), o = S(Gate(m.Uo) + m.Bo.Value[j]), u = Math.Tanh(Gate(m.Uu) + m.Bu.Value[j]);
            double fl = S(Dot(m.Uf1, j, 0, hl) + m.Bf.Value[j]), fr = S(Dot(m.Uf2, j, 0, hr) + m.Bf.Value[j]);
            c[j] = i * u + fl * cl[j] + fr * cr[j];
            h[j] = o * Math.Tanh(c[j]);
        }
        return (h, c);
    }

    public static double Loss(TreeLstm m, double[] h, int label)
    {
        var z = new double[TreeLstm.Classes];
        for (int r = 0; r < z.Length; r++)
            for (int k = 0; k < h.Length; k++) z[r] += m.Wout.Value[r * h.Length + k] * h[k];
        double max = z.Max();
        return Math.Log(z.Sum(v => Math.Exp(v - max))) + max - z[label];
    }
}
