/// The process exit codes of every `longhorn-dr` command, in one place.
///
/// Scripts, Task and Flux (through the restore Job) branch on these, so they are part of the
/// public contract and documented in `docs/exit-codes.md`.
public enum ExitStatus: Int32, Sendable, CaseIterable, CustomStringConvertible {
    /// The command did what it was asked; for the exercise: PASS.
    case ok = 0
    /// The exercise ran to the end and the data did not match (or a backup failed verification).
    case verificationFailed = 1
    /// The command line or a configuration file is wrong; nothing was touched.
    case usage = 2
    /// A precondition outside the tool is missing: a tool, a cluster, credentials, a Longhorn version.
    case environment = 3
    /// Infrastructure failed or a phase ran out of its time budget.
    case infrastructure = 4

    public var description: String {
        switch self {
        case .ok: "ok"
        case .verificationFailed: "verification failed"
        case .usage: "usage or configuration error"
        case .environment: "environment or preflight error"
        case .infrastructure: "infrastructure error or timeout"
        }
    }
}
