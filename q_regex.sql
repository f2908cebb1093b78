\timing on
select id from coach_profiles cp where hourly_rate <= 240 and languages && '{English}' and countries && '{Spain}' order by (case when lower(array_to_string(cp.expertise,' | ')) ~ '' then 26 else 0 end) + rating desc limit 360;
select id from coach_profiles cp where hourly_rate <= 240 and languages && '{English}' and countries && '{Spain}' order by (case when lower(array_to_string(cp.expertise,' | ')) ~ '' then 26 else 0 end) + rating desc limit 360;
select id from coach_profiles cp where hourly_rate <= 240 and languages && '{English}' and countries && '{Spain}' order by (case when lower(array_to_string(cp.expertise,' | ')) ~ '' then 26 else 0 end) + rating desc limit 360;
select id from coach_profiles cp where hourly_rate <= 240 and languages && '{English}' and countries && '{Spain}' order by (case when lower(array_to_string(cp.expertise,' | ')) ~ '' then 26 else 0 end) + rating desc limit 360;
select id from coach_profiles cp where hourly_rate <= 240 and languages && '{English}' and countries && '{Spain}' order by (case when lower(array_to_string(cp.expertise,' | ')) ~ '' then 26 else 0 end) + rating desc limit 360;
select id from coach_profiles cp where hourly_rate <= 240 and languages && '{English}' and countries && '{Spain}' order by (case when lower(array_to_string(cp.expertise,' | ')) ~ '' then 26 else 0 end) + rating desc limit 360;
