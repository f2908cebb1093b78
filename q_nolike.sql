\timing on
select id from coach_profiles cp where hourly_rate <= 240 and languages && '{English}' and countries && '{Spain}' order by 0 + rating desc limit 360;
select id from coach_profiles cp where hourly_rate <= 240 and languages && '{English}' and countries && '{Spain}' order by 0 + rating desc limit 360;
select id from coach_profiles cp where hourly_rate <= 240 and languages && '{English}' and countries && '{Spain}' order by 0 + rating desc limit 360;
select id from coach_profiles cp where hourly_rate <= 240 and languages && '{English}' and countries && '{Spain}' order by 0 + rating desc limit 360;
select id from coach_profiles cp where hourly_rate <= 240 and languages && '{English}' and countries && '{Spain}' order by 0 + rating desc limit 360;
select id from coach_profiles cp where hourly_rate <= 240 and languages && '{English}' and countries && '{Spain}' order by 0 + rating desc limit 360;
