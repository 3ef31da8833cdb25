import DRCore
import Foundation

/// Keeps the journal in a file only its owner can read (0600), replaced atomically.
public struct FileJournalStore: JournalStore {
    public let path: URL

    public init(path: URL) { self.path = path }

    /// `$XDG_STATE_HOME/longhorn-dr` or `~/.local/state/longhorn-dr`, or the config's `state.directory`.
    public static func stateDirectory(configured: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let configured { return URL(fileURLWithPath: (configured as NSString).expandingTildeInPath) }
        if let xdg = environment["XDG_STATE_HOME"], !xdg.isEmpty { return URL(fileURLWithPath: xdg).appendingPathComponent("longhorn-dr") }
        return URL(fileURLWithPath: NSHomeDirectory()).appendingPathComponent(".local/state/longhorn-dr")
    }

    public func load() async throws -> ExerciseJournal? {
        guard let data = FileManager.default.contents(atPath: path.path) else { return nil }
        return try ExerciseJournal.decode(data)
    }

    public func save(_ journal: ExerciseJournal) async throws {
        try AtomicFile.write(try journal.encoded(), to: path)
    }
}

/// Writes the report in each configured format next to each other in the report folder.
public enum ReportWriter {
    /// - Returns: the files written.
    @discardableResult
    public static func write(_ report: ExerciseReport, formats: [ExerciseConfig.ReportFormat], to folder: URL) throws -> [URL] {
        var written: [URL] = []
        for format in formats {
            let (name, text): (String, String?) =
                switch format {
                case .console: ("", nil)
                case .json: ("\(report.runID).json", report.json())
                case .junit: ("\(report.runID).junit.xml", report.junitXML())
                case .markdown: ("\(report.runID).md", report.markdown())
                }
            guard let text else { continue }
            let url = folder.appendingPathComponent(name)
            try AtomicFile.write(Data(text.utf8), to: url)
            written.append(url)
        }
        return written
    }
}
