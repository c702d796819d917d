using Shinso.Backends;
using Shinso.Models.FeedForward;
using Shinso.Models.Perceptrons;
using Shinso.Models.ThresholdLogic;
using Shinso.Training;

namespace Shinso.Cli.Repro;

/// <summary>
/// McCulloch and Pitts' threshold units with hand-set weights compute NAND, and a layered net of NAND gates computes XOR;
/// Rosenblatt's learning rule, which finds any separating line, finds none for XOR (Minsky and Papert).
/// </summary>
internal sealed class LogicExperiment : Experiment
{
    private static readonly float[][] Inputs = [[0, 0], [0, 1], [1, 0], [1, 1]];

    public override string Name => "logic";

    public override string Paper =>
        "McCulloch, W. S. & Pitts, W. (1943), A logical calculus of the ideas immanent in nervous activity, Bull. Math. Biophys. 5:115-133; " +
        "Rosenblatt, F. (1958), The perceptron, Psychol. Rev. 65(6):386-408; Minsky, M. & Papert, S. (1969), Perceptrons, MIT Press";

    public override string Dataset => "the four inputs of a two-input Boolean function";

    public override string Claim => "threshold units compute any logic circuit; a single learned threshold unit cannot compute XOR";

    public override string ExpectedTime => "1 s";

    public override bool TakesData => false;

    public override string QuickVersion => "the perceptron tries XOR for 100 epochs instead of 1,000";

    public override ExperimentReport Run(ExperimentContext context)
    {
        var report = new ExperimentReport(this);
        var nand = TruthTable(ThresholdCircuits.Nand(context.Backend));
        var xor = TruthTable(ThresholdCircuits.Xor(context.Backend));
        int nandRight = Count(nand, (a, b) => !(a && b)), xorRight = Count(xor, (a, b) => a ^ b);
        report.Rows.Add(new ReportRow("one threshold unit computes NAND",
            "a net of such neurons realises any logical expression", "hand-set weights and thresholds",
            $"{nandRight}/4 rows right: NAND(a, b) = {Row(nand)}", "step(-2a - 2b + 3)"));
        report.Rows.Add(new ReportRow("NAND gates compose into XOR",
            "(NAND is functionally complete)", "-",
            $"{xorRight}/4 rows right: XOR(a, b) = {Row(xor)}", "4 NAND units and 2 copy units in 3 layers, [2] -> [3] -> [2] -> [1]"));

        int epochs = context.Quick ? 100 : 1000;
        var learned = LearnXor(context.Backend, epochs, context.Seed);
        long fewest = learned.MistakesPerEpoch.Min();
        report.Rows.Add(new ReportRow("the perceptron rule cannot learn XOR",
            "no single threshold unit separates XOR's classes", "proof",
            $"{(learned.Converged ? "converged (unexpected)" : "never converged")}: at least {fewest} of 4 wrong in every one of {learned.Epochs} epochs ({learned.Updates} updates)",
            $"Rosenblatt's online rule, lr 1, {epochs} epochs, seed {context.Seed}"));
        var and = LearnAnd(context.Backend, context.Seed);
        report.Rows.Add(new ReportRow("the rule learns a separable function",
            "convergence in finitely many corrections (Novikoff 1962)", "proof",
            $"AND: {(and.Converged ? $"converged after {and.Updates} updates ({and.Epochs} epochs)" : "did not converge")}",
            $"the same rule and seed"));
        report.Notes.Add("The circuits are FeedForwardNet models of dense + step layers (ThresholdCircuits); the perceptron is the library's PerceptronTrainer.");
        report.Figures["nand"] = Row(nand);
        report.Figures["xor"] = Row(xor);
        report.Figures["nand_correct"] = nandRight;
        report.Figures["xor_correct"] = xorRight;
        report.Figures["perceptron_xor_converged"] = learned.Converged;
        report.Figures["perceptron_xor_fewest_mistakes"] = fewest;
        report.Figures["perceptron_and_converged"] = and.Converged;
        report.Figures["perceptron_and_updates"] = and.Updates;
        return report;
    }

    /// <summary>The net's output for (0,0), (0,1), (1,0), (1,1).</summary>
    private static bool[] TruthTable(FeedForwardNet net)
    {
        var x = net.Backend.Allocate(4, 2);
        net.Backend.Upload(Inputs.SelectMany(r => r).ToArray(), x);
        var y = new float[4];
        net.Backend.Download(net.Predict(x), y);
        return Array.ConvertAll(y, v => v > 0.5f);
    }

    private static int Count(bool[] table, Func<bool, bool, bool> truth)
    {
        int right = 0;
        for (int i = 0; i < 4; i++) if (table[i] == truth(Inputs[i][0] == 1, Inputs[i][1] == 1)) right++;
        return right;
    }

    private static string Row(bool[] table) => string.Join(" ", table.Select(b => b ? 1 : 0));

    private static PerceptronReport LearnXor(IBackend backend, int epochs, ulong seed) => Learn(backend, [0, 1, 1, 0], epochs, seed);

    private static PerceptronReport LearnAnd(IBackend backend, ulong seed) => Learn(backend, [0, 0, 0, 1], 100, seed);

    private static PerceptronReport Learn(IBackend backend, float[] targets, int epochs, ulong seed)
    {
        var perceptron = new Perceptron(backend, 2, 1);
        var data = new SupervisedData(Inputs.SelectMany(r => r).ToArray(), 2, targets, 1);
        return new PerceptronTrainer(perceptron, new PerceptronOptions { MaxEpochs = epochs, BatchSize = 1, LearningRate = 1f, Seed = seed }).Fit(data);
    }
}
