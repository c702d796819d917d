using Shinso.Layers;
using Shinso.Losses;
using Shinso.Models.FeedForward;
using Shinso.Tensors;

namespace Shinso.Training;

/// <summary>
/// The teachers of a <see cref="Distillation"/> and the student objective they give: each training step runs every
/// teacher once on the step's minibatch, on the student's backend, averages their logits, and rewrites the student's
/// kept score gradient as the distillation objective's (see <see cref="Distillation"/> for the formulas).
/// </summary>
/// <remarks>Single-threaded, like the trainer that owns it; the teachers' own buffers are reused batch after batch.</remarks>
public sealed class DistillationObjective
{
    private readonly FeedForwardNet[] _teachers;
    private readonly BatchBuffer _teacherLogits, _scaledTeacher, _teacherProbabilities, _scaledStudent, _studentProbabilities, _distillationGradient;

    /// <summary>Distils <paramref name="teachers"/> into <paramref name="student"/> as <paramref name="settings"/> say.</summary>
    /// <exception cref="ArgumentException">The settings are invalid, no teacher is given, or a teacher is not a softmax classifier on the student's
    /// backend taking the student's inputs and giving its number of classes; the message names the teacher and both shapes.</exception>
    public DistillationObjective(Distillation settings, IReadOnlyList<FeedForwardNet> teachers, FeedForwardNet student)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(teachers);
        ArgumentNullException.ThrowIfNull(student);
        settings.Validate();
        if (teachers.Count == 0) throw new ArgumentException("Distillation needs at least one teacher net.", nameof(teachers));
        if (student.Loss.Output != OutputFunction.Softmax)
            throw new ArgumentException($"A distilled student is a softmax classifier; this one's loss is '{student.Spec.Loss}'.", nameof(student));
        for (int i = 0; i < teachers.Count; i++)
        {
            var t = teachers[i];
            string name = i < settings.Teachers.Count ? settings.Teachers[i] : $"teacher {i}";
            // The teacher's inference pass would overwrite the activations the student's backward pass reads.
            if (ReferenceEquals(t, student)) throw new ArgumentException($"{name} is the student itself; a teacher is another net.", nameof(teachers));
            if (!ReferenceEquals(t.Backend, student.Backend))
                throw new ArgumentException($"{name} lives on backend {t.Backend.Name}, the student on {student.Backend.Name}: both must run on the same one.", nameof(teachers));
            if (t.Loss.Output != OutputFunction.Softmax)
                throw new ArgumentException($"{name} is not a softmax classifier (its loss is '{t.Spec.Loss}'): its scores are not logits.", nameof(teachers));
            // A convolutional teacher's [1, 28, 28] images are a dense student's 784 inputs: only the length must agree.
            if (t.Spec.InputLength != student.Spec.InputLength)
                throw new ArgumentException($"{name} takes inputs of shape {Tensor.ShapeText(t.Spec.InputShape)} ({t.Spec.InputLength} values), " +
                                            $"the student {Tensor.ShapeText(student.Spec.InputShape)} ({student.Spec.InputLength}).", nameof(teachers));
            if (t.Spec.OutputLength != student.Spec.OutputLength)
                throw new ArgumentException($"{name} scores {t.Spec.OutputLength} classes, the student {student.Spec.OutputLength}.", nameof(teachers));
        }
        Settings = settings;
        _teachers = [.. teachers];
        var backend = student.Backend;
        _teacherLogits = new BatchBuffer(backend);
        _scaledTeacher = new BatchBuffer(backend);
        _teacherProbabilities = new BatchBuffer(backend);
        _scaledStudent = new BatchBuffer(backend);
        _studentProbabilities = new BatchBuffer(backend);
        _distillationGradient = new BatchBuffer(backend);
    }

    /// <summary>The settings.</summary>
    public Distillation Settings { get; }

    /// <summary>The teachers, in the order of <see cref="Distillation.Teachers"/>.</summary>
    public IReadOnlyList<FeedForwardNet> Teachers => _teachers;

    /// <summary>The teachers' mean logits on <paramref name="inputs"/> (dropout off), one row per input row.</summary>
    public Tensor TeacherLogits(Tensor inputs)
    {
        var backend = inputs.Backend;
        int classes = _teachers[0].Spec.OutputLength;
        var mean = _teacherLogits.Get(inputs.Rows, [classes]);
        for (int i = 0; i < _teachers.Length; i++)
        {
            var shape = _teachers[i].Spec.InputShape;
            var teacherInputs = inputs.Shape[1..].SequenceEqual(shape) ? inputs : inputs.Reshape([inputs.Rows, .. shape]);
            var logits = _teachers[i].Forward(teacherInputs, ForwardContext.Inference);
            if (i == 0) backend.Copy(logits, mean);
            else backend.Axpy(1f, logits, mean);
        }
        if (_teachers.Length > 1) backend.ScaleShift(mean, 1f / _teachers.Length, 0f, mean);
        return mean;
    }

    /// <summary>
    /// After the student's forward pass on <paramref name="inputs"/> gave <paramref name="studentScores"/> and its
    /// <see cref="FeedForwardNet.ComputeLoss"/> gave <paramref name="labelLoss"/> (penalties included): replaces the student's
    /// kept score gradient with the distillation objective's and returns that objective's value, the penalties at full weight.
    /// </summary>
    public float Apply(FeedForwardNet student, Tensor inputs, Tensor studentScores, float labelLoss)
    {
        // All weight on the labels: the kept gradient is already the objective's, and the teachers need not run.
        if (Settings.LabelWeight == 1f) return labelLoss;
        var backend = student.Backend;
        var teacher = TeacherLogits(inputs);
        int rows = studentScores.Rows, classes = studentScores.Columns;
        var gradient = _distillationGradient.Get(rows, [classes]);
        float a = Settings.LabelWeight, distilled, gradientScale;
        if (Settings.Target == DistillationTarget.Logits)
        {
            distilled = backend.SquaredError(studentScores, teacher, gradient);
            gradientScale = 1f;
        }
        else
        {
            float t = Settings.Temperature;
            var scaledTeacher = _scaledTeacher.Get(rows, [classes]);
            var soft = _teacherProbabilities.Get(rows, [classes]);
            backend.ScaleShift(teacher, 1f / t, 0f, scaledTeacher);
            backend.SoftmaxRows(scaledTeacher, soft);
            var scaledStudent = _scaledStudent.Get(rows, [classes]);
            backend.ScaleShift(studentScores, 1f / t, 0f, scaledStudent);
            // dCE/d(z/T) is (softmax(z/T) - p)/B; the chain rule's 1/T and the objective's T² leave T.
            distilled = t * t * backend.SoftmaxCrossEntropy(scaledStudent, soft, _studentProbabilities.Get(rows, [classes]), gradient);
            gradientScale = t;
        }
        backend.Axpby((1f - a) * gradientScale, gradient, a, student.ScoresGradient);
        // The layers' penalties enter at full weight (their gradients do not pass through the scores), the label loss at a.
        float penalties = student.LastPenalty;
        return (1f - a) * distilled + a * (labelLoss - penalties) + penalties;
    }
}
