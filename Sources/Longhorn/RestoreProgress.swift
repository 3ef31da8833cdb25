/// Where a restore Volume is in Longhorn's restore lifecycle (longhorn-facts.md section 4.4):
/// `creating → detached` (before any data moves) `→ attaching → attached` (restoring)
/// `→ detaching → detached` with `restoreRequired` false (done).
public struct RestoreProgress: Sendable, Hashable, CustomStringConvertible {
    public enum Phase: String, Sendable, Hashable {
        /// No status yet, or `restoreInitiated` not set: a `detached` here is *not* done.
        case notStarted
        /// `restoreRequired` is true: the engine is pulling blocks (usually `attached`).
        case restoring
        /// Data restored; Longhorn is releasing its attachment.
        case finishing
        case done
        case failed
    }

    public var volume: String
    public var phase: Phase
    public var state: String
    public var robustness: String
    public var restoreInitiated: Bool
    public var restoreRequired: Bool
    /// Longhorn's words: the `Restore` condition's reason and message, when there are any.
    public var message: String?

    /// Judges one sighting of a restore Volume. Done means `restoreInitiated && !restoreRequired
    /// && state == detached && robustness != faulted`; failed means robustness `faulted` or a
    /// `Restore` condition with reason `RestoreFailure`.
    public init(_ volume: Volume) {
        let status = volume.status
        self.volume = volume.name
        state = status?.state ?? ""
        robustness = status?.robustness ?? ""
        restoreInitiated = status?.restoreInitiated ?? false
        restoreRequired = status?.restoreRequired ?? false
        let condition = status?.condition("Restore")
        let words = [condition?.reason, condition?.message].compactMap { $0?.isEmpty == false ? $0 : nil }
        message = words.isEmpty ? nil : words.joined(separator: ": ")
        if robustness == "faulted" || condition?.reason == "RestoreFailure" {
            phase = .failed
        } else if status == nil || !restoreInitiated {
            phase = .notStarted
        } else if restoreRequired {
            phase = .restoring
        } else if state != "detached" {
            phase = .finishing
        } else {
            phase = .done
        }
    }

    public var description: String {
        let flags =
            "state \(state.isEmpty ? "-" : state), robustness \(robustness.isEmpty ? "-" : robustness), restoreInitiated \(restoreInitiated), restoreRequired \(restoreRequired)"
        let what: String
        switch phase {
        case .notStarted: what = "restore not started yet"
        case .restoring: what = "restoring"
        case .finishing: what = "restored, detaching"
        case .done: what = "restore complete"
        case .failed: what = "restore failed"
        }
        return "volume \(volume): \(what) (\(flags))" + (message.map { "; Longhorn says: \($0)" } ?? "")
    }
}
