/// The phases of a DR exercise, in the order they run.
///
/// Raw values are the names users see in configs, reports and `--only`.
public enum ExercisePhase: String, Sendable, CaseIterable, Codable, CustomStringConvertible {
    case preflight
    case setup
    case writeSentinel = "write-sentinel"
    case backup
    case verifyBackupInStore = "verify-backup-in-store"
    case destroy
    case rebuild
    case waitReady = "wait-ready"
    case verify
    case report

    public var description: String { rawValue }
}
