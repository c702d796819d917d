using System.Text;
using Shinso.Random;

namespace Shinso.Cli.Fuzz;

/// <summary>
/// Mutates a valid file's bytes the ways damaged and hostile files differ from good ones: flipped bits, random bytes,
/// truncation, insertions, deletions, repeated chunks, extreme 32-bit integers, huge or negative numbers in text, and
/// deeply nested JSON. One to three mutations per case, drawn from a Philox stream addressed by the case's index, so a
/// case replays from (seed, index) alone.
/// </summary>
internal sealed class Mutator(RandomStream stream)
{
    private static readonly int[] Extremes = [int.MaxValue, int.MinValue, -1, 0, 1 << 30, 65536];
    private static readonly string[] Numbers = ["99999999999999999999", "-1", "1e39", "NaN", "2147483648", "-2147483649", "0x7fffffff", "1.5", ""];

    private ulong _position;

    /// <summary>The names of the mutations, in the order of their codes.</summary>
    public static IReadOnlyList<string> Kinds { get; } =
        ["bit-flip", "random-byte", "truncate", "insert", "delete", "repeat-chunk", "extreme-int32", "text-number", "nested-json"];

    /// <summary>Mutates <paramref name="original"/> for case <paramref name="index"/>; <paramref name="applied"/> names what was done.</summary>
    public byte[] Mutate(byte[] original, long index, out string applied)
    {
        _position = (ulong)index << 20;
        var bytes = new List<byte>(original);
        int count = 1 + Next(3);
        var names = new List<string>();
        for (int m = 0; m < count; m++)
        {
            int kind = Next(Kinds.Count);
            names.Add(Kinds[kind]);
            Apply(kind, bytes);
        }
        applied = string.Join("+", names);
        return [.. bytes];
    }

    private void Apply(int kind, List<byte> bytes)
    {
        int n = bytes.Count;
        switch (kind)
        {
            case 0 when n > 0: { int i = Next(n); bytes[i] ^= (byte)(1 << Next(8)); break; }
            case 1 when n > 0: bytes[Next(n)] = (byte)Next(256); break;
            case 2: { int keep = Next(n + 1); bytes.RemoveRange(keep, n - keep); break; }
            case 3: { int at = Next(n + 1), len = 1 + Next(16); var add = new byte[len]; for (int i = 0; i < len; i++) add[i] = (byte)Next(256); bytes.InsertRange(at, add); break; }
            case 4 when n > 0: { int at = Next(n), len = Math.Min(n - at, 1 + Next(32)); bytes.RemoveRange(at, len); break; }
            case 5 when n > 0: { int at = Next(n), len = Math.Min(n - at, 1 + Next(64)); bytes.InsertRange(Next(n + 1), bytes.GetRange(at, len)); break; }
            case 6 when n >= 4:
            {
                int at = Next(n - 3), value = Extremes[Next(Extremes.Length)];
                bool big = Next(2) == 0;
                for (int k = 0; k < 4; k++) bytes[at + k] = (byte)(value >> (8 * (big ? 3 - k : k)));
                break;
            }
            case 7:
            {
                // Replace a run of digits (as headers and text cells hold them) with a hostile number.
                int start = -1;
                for (int tries = 0; tries < 8 && start < 0 && n > 0; tries++)
                {
                    int at = Next(n);
                    for (int i = at; i < n; i++) if (bytes[i] is >= (byte)'0' and <= (byte)'9') { start = i; break; }
                }
                if (start < 0) break;
                int end = start;
                while (end < n && bytes[end] is >= (byte)'0' and <= (byte)'9') end++;
                bytes.RemoveRange(start, end - start);
                bytes.InsertRange(start, Encoding.ASCII.GetBytes(Numbers[Next(Numbers.Length)]));
                break;
            }
            case 8:
            {
                int depth = 1 + Next(100_000);
                var nested = Encoding.ASCII.GetBytes(new string('[', depth) + new string(']', depth));
                bytes.InsertRange(Next(n + 1), nested);
                break;
            }
        }
    }

    private int Next(int bound) => bound <= 1 ? 0 : (int)(Philox4x32.Word(stream, _position++) % (uint)bound);
}
