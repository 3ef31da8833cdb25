/// An error that names the object, the cause and the operator's next step.
///
/// Every module turns its failures into this shape before they reach the CLI, so the CLI can
/// render them the same way and pick the exit code from `status`.
public struct DRError: Error, Sendable, CustomStringConvertible {
    /// Which exit code the CLI uses when this error ends a command.
    public var status: ExitStatus
    /// The object concerned, e.g. `config examples/exercise.yaml` or `volume dr-exercise-data`.
    public var subject: String
    /// What happened.
    public var detail: String
    /// What the operator can do about it, if anything.
    public var hint: String?
    /// The error this one stands for, with its own type and code (an AWS, store or client
    /// error), for callers that decide by it; never part of the text.
    public var cause: (any Error & Sendable)?

    public init(_ status: ExitStatus, subject: String, detail: String, hint: String? = nil, cause: (any Error & Sendable)? = nil) {
        self.status = status
        self.subject = subject
        self.detail = detail
        self.hint = hint
        self.cause = cause
    }

    public var description: String {
        var text = "\(subject): \(detail)"
        if let hint { text += "\n  hint: \(hint)" }
        return text
    }
}
