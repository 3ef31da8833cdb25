import KubeClient
import KubeModels

/// `recurringjobs.longhorn.io`: a scheduled snapshot/backup job (longhorn-facts.md section 8).
/// A restored volume without recurring-job labels joins the `default` group, so jobs in that
/// group start backing it up; this view lets callers see which jobs would.
public struct RecurringJob: LonghornModel, Hashable {
    public static let resource = LonghornResources.recurringJobs
    public static let kind = "RecurringJob"

    public var metadata: ResourceMetadata
    public var spec: Spec?
    public var original: JSONValue?

    public init(metadata: ResourceMetadata, spec: Spec? = nil) {
        self.metadata = metadata
        self.spec = spec
    }

    enum CodingKeys: String, CodingKey { case metadata, spec }

    public struct Spec: Codable, Sendable, Hashable {
        public var name: String?
        public var groups: [String]?
        /// `snapshot`, `backup`, `backup-force-create`, `system-backup`...
        public var task: String?
        public var cron: String?
        public var retain: Int?
        public var concurrency: Int?
        public var labels: [String: String]?

        public init(name: String? = nil, groups: [String]? = nil, task: String? = nil, cron: String? = nil, retain: Int? = nil) {
            self.name = name
            self.groups = groups
            self.task = task
            self.cron = cron
            self.retain = retain
        }
    }

    /// Volume label keys: `recurring-job-group.longhorn.io/<group>` and `recurring-job.longhorn.io/<job>`.
    public static func groupLabel(_ group: String) -> String { "recurring-job-group.longhorn.io/\(group)" }
    public static func jobLabel(_ job: String) -> String { "recurring-job.longhorn.io/\(job)" }

    /// Whether this job applies to a volume carrying `labels` (no recurring-job labels at all
    /// means the `default` group, as Longhorn labels such volumes).
    public func applies(toVolumeLabels labels: [String: String]) -> Bool {
        let own = labels.filter { $0.key.hasPrefix("recurring-job-group.longhorn.io/") || $0.key.hasPrefix("recurring-job.longhorn.io/") }
        let groups =
            own.isEmpty
            ? ["default"]
            : own.keys.compactMap { key -> String? in
                key.hasPrefix("recurring-job-group.longhorn.io/") ? String(key.dropFirst("recurring-job-group.longhorn.io/".count)) : nil
            }
        if own[Self.jobLabel(metadata.name)] == "enabled" { return true }
        return (spec?.groups ?? []).contains { group in groups.contains(group) && (own.isEmpty || own[Self.groupLabel(group)] == "enabled") }
    }
}
