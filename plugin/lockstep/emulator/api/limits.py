"""Default ``/limits`` entries (a Developer Edition's set, with the daily API allowance by kind)."""

from __future__ import annotations

from typing import Any

__all__ = ["default_limits"]

_DEFAULTS: dict[str, int] = {
    "ActiveScratchOrgs": 3, "AnalyticsExternalDataSizeMB": 40960,
    "ConcurrentAsyncGetReportInstances": 200, "ConcurrentEinsteinDataInsightsStoryCreation": 5,
    "ConcurrentEinsteinDiscoveryStoryCreation": 2, "ConcurrentSyncReportRuns": 20,
    "DailyAnalyticsDataflowJobExecutions": 60, "DailyAnalyticsUploadedFilesSizeMB": 51200,
    "DailyApiRequests": 15000, "DailyAsyncApexExecutions": 250000, "DailyAsyncApexTests": 540,
    "DailyBulkApiBatches": 15000, "DailyBulkApiRequests": 10000,
    "DailyBulkV2QueryFileStorageMB": 976562, "DailyBulkV2QueryJobs": 10000,
    "DailyDeliveredPlatformEvents": 10000, "DailyDurableGenericStreamingApiEvents": 10000,
    "DailyDurableStreamingApiEvents": 10000, "DailyEinsteinDataInsightsStoryCreation": 1000,
    "DailyEinsteinDiscoveryOptimizationJobRuns": 25, "DailyEinsteinDiscoveryPredictAPICalls": 50000,
    "DailyEinsteinDiscoveryPredictionsByCDC": 500000, "DailyEinsteinDiscoveryStoryCreation": 100,
    "DailyFunctionsApiCallLimit": 50000, "DailyGenericStreamingApiEvents": 10000,
    "DailyScratchOrgs": 6, "DailyStandardVolumePlatformEvents": 10000,
    "DailyStreamingApiEvents": 10000, "DailyWorkflowEmails": 405, "DataStorageMB": 5,
    "DurableStreamingApiConcurrentClients": 20, "FileStorageMB": 20,
    "HourlyAsyncReportRuns": 1200, "HourlyDashboardRefreshes": 200, "HourlyDashboardResults": 5000,
    "HourlyDashboardStatuses": 999999999, "HourlyLongTermIdMapping": 100000,
    "HourlyManagedContentPublicRequests": 50000, "HourlyODataCallout": 1000,
    "HourlyPublishedPlatformEvents": 50000, "HourlyPublishedStandardVolumePlatformEvents": 1000,
    "HourlyShortTermIdMapping": 100000, "HourlySyncReportRuns": 500, "HourlyTimeBasedWorkflow": 50,
    "MassEmail": 10, "MonthlyEinsteinDiscoveryStoryCreation": 500, "Package2VersionCreates": 6,
    "Package2VersionCreatesWithoutValidation": 500, "PermissionSets": 1500,
    "PrivateConnectOutboundCalloutHourlyLimitMB": 0, "PublishCallbackUsageInApex": 5242880,
    "SingleEmail": 15, "StreamingApiConcurrentClients": 20,
}


def default_limits(daily_api_max: int) -> dict[str, dict[str, Any]]:
    limits: dict[str, dict[str, Any]] = {name: {"Max": n, "Remaining": n} for name, n in _DEFAULTS.items()}
    limits["DailyApiRequests"] = {"Max": daily_api_max, "Remaining": daily_api_max}
    limits["PermissionSets"]["CreateCustom"] = {"Max": 1000, "Remaining": 1000}
    return limits
