"""Security: fuzzing, least privilege, mass assignment, body limits, dependency audit."""
