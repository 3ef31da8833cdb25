import DRCore
import Delivery
import Exercise
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One exercise run from the command line's point of view: the phases with Ctrl-C handled, the
/// cluster released whatever happened, then the reports written and delivered.
public struct ExerciseSession: Sendable {
    public var config: ExerciseConfig
    public var environment: ClusterExerciseEnvironment
    public var journal: FileJournalStore
    public var options: ExerciseRunner.Options
    public var log: @Sendable (String) -> Void

    public init(
        config: ExerciseConfig, environment: ClusterExerciseEnvironment, journal: FileJournalStore, options: ExerciseRunner.Options,
        log: @escaping @Sendable (String) -> Void
    ) {
        self.config = config
        self.environment = environment
        self.journal = journal
        self.options = options
        self.log = log
    }

    /// Runs the phases, then lets the environment release its cluster. Ctrl-C or SIGTERM stops
    /// the running phase's command group (TERM, then KILL after budgets.stopGrace) and journals
    /// the phase as interrupted; the report still follows. A run where something failed leaves a
    /// forensics bundle in `forensicsFolder/<runID>-forensics` first, while its cluster is still
    /// there to ask (at most a minute; a bundle that cannot be written is a warning).
    public func run(forensicsFolder: URL? = nil) async throws -> ExerciseReport {
        let runner = ExerciseRunner(config: config, environment: environment, journalStore: journal, options: options, log: log)
        let run = Task { try await runner.run() }
        let grace = DurationText.format(config.budgets.stopGrace)
        let log = log
        let signals = SignalWatch([SIGINT, SIGTERM]) { signal in
            log(
                "\n\(signal == SIGINT ? "interrupted" : "terminated"): stopping the running phase (its commands get SIGTERM, SIGKILL after \(grace)); the journal keeps the run for --resume"
            )
            run.cancel()
        }
        defer { signals.cancel() }
        let result = await run.result
        var report = try? result.get()
        if var failed = report, failed.somethingFailed, let forensicsFolder {
            let folder = forensicsFolder.appendingPathComponent("\(failed.runID)-forensics")
            let environment = self.environment
            let journalPath = journal.path
            let collected = await Self.withTimeout(.seconds(60)) { try await environment.collectForensics(into: folder, journal: journalPath) }
            switch collected {
            case .success(let written):
                failed.forensics = written.path
                log("forensics: \(written.path)")
            case .failure(let error):
                log("warning: the forensics bundle could not be written to \(folder.path): \(error)")
            }
            report = failed
        }
        await environment.shutdown()
        _ = try result.get()
        return report!
    }

    /// `body`'s result, or a timeout error once `limit` has passed (the body is cancelled).
    static func withTimeout<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async -> Result<T, any Error> {
        await withTaskGroup(of: Result<T, any Error>?.self) { group in
            group.addTask {
                do { return .success(try await body()) } catch { return .failure(error) }
            }
            group.addTask {
                try? await Task.sleep(for: limit)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .failure(DRError(.infrastructure, subject: "forensics", detail: "not done within \(DurationText.format(limit))"))
        }
    }

    /// Writes the report in the config's formats to `folder` and delivers it to the configured
    /// metrics and notification endpoints. A delivery problem is logged, never changes the verdict.
    public func publish(_ report: ExerciseReport, to folder: URL) async throws {
        let files = try ReportWriter.write(report, formats: config.report.formats, to: folder)
        for file in files { log("report: \(file.path)") }
        let outputs = ReportDelivery.Outputs(
            textfile: config.metrics.textfile, pushgateway: config.metrics.pushgateway, webhook: config.notify.webhook, discord: config.notify.discord)
        let problems = await ReportDelivery(outputs).deliver(report.deliveryContent(finishedAt: Date(), reportFiles: files), log: log)
        for problem in problems { log("warning: \(problem)") }
    }
}
