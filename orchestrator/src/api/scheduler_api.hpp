#pragma once
// The EventBridge Scheduler API (restJson1, signing name `scheduler`): CreateSchedule,
// GetSchedule, UpdateSchedule, DeleteSchedule, ListSchedules, CreateScheduleGroup,
// GetScheduleGroup, ListScheduleGroups, DeleteScheduleGroup, TagResource, UntagResource and
// ListTagsForResource (schedule groups only, as AWS), on store::ScheduleStore; the
// firing itself is engine/scheduler.hpp's. Errors as AWS's: ValidationException (400),
// ResourceNotFoundException (404), ConflictException (409), InternalServerException (500).
// Thread model: thread-safe (no state of its own besides the options).
#include <string>

#include "api/router.hpp"

namespace switchyard::orchestrator::store {
class ScheduleStore;
}

namespace switchyard::orchestrator::api {

class WorkPool;

struct SchedulerApiOptions {
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
  store::ScheduleStore* store = nullptr;  // must outlive the routes
};

void RegisterSchedulerApi(const SchedulerApiOptions& options, Router& router, WorkPool& pool);

}  // namespace switchyard::orchestrator::api
